class Echo:
    def predict(self, request):
        return request.body
